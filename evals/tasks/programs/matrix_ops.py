"""Dense matrices as lists of rows."""

from mimo_agent.evals.tasks.template import ProgramTemplate

CORE = '''"""Building and inspecting matrices (lists of equal-length rows)."""


def zeros(rows, cols):
    return [[0] * cols for _ in range(rows)]


def identity(size):
    result = zeros(size, size)
    for i in range(size):
        result[i][i] = 1
    return result


def shape(matrix):
    if not matrix:
        return (0, 0)
    return (len(matrix), len(matrix[0]))


def transpose(matrix):
    rows, cols = shape(matrix)
    {% return [[matrix[r][c] for r in range(rows)] for c in range(cols)] || result = zeros(cols, rows)
    for r in range(rows):
        for c in range(cols):
            result[c][r] = matrix[r][c]
    return result %}


def is_square(matrix):
    rows, cols = shape(matrix)
    return rows == cols and rows > 0
'''

ARITH = '''"""Arithmetic on matrices."""

from matrixlib.core import shape, zeros


def add(left, right):
    if shape(left) != shape(right):
        raise ValueError("shapes differ")
    return [[a + b for a, b in zip(row_a, row_b)] for row_a, row_b in zip(left, right)]


def scale(matrix, factor=2):
    return [[value * factor for value in row] for row in matrix]


def multiply(left, right):
    """Matrix product; the inner dimensions must agree."""
    rows, inner = shape(left)
    inner_right, cols = shape(right)
    if inner != inner_right:
        raise ValueError("inner dimensions differ")
    result = zeros(rows, cols)
    for i in range(rows):
        for j in range(cols):
            total = 0
            for k in range(inner):
                total += left[i][k] * right[k][j]
            result[i][j] = total
    return result


def trace(matrix):
    rows, cols = shape(matrix)
    if rows != cols:
        raise ValueError("trace needs a square matrix")
    return sum(matrix[i][i] for i in range(rows))


def row_sums(matrix):
    return [sum(row) for row in matrix]


def max_entry(matrix):
    return max(max(row) for row in matrix)
'''

TEST_CORE = """from matrixlib.core import identity, is_square, shape, transpose, zeros


def test_zeros():
    assert zeros(2, 3) == [[0, 0, 0], [0, 0, 0]]


def test_identity():
    assert identity(3) == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]


def test_shape():
    assert shape([[1, 2, 3], [4, 5, 6]]) == (2, 3)


def test_shape_empty():
    assert shape([]) == (0, 0)


def test_transpose():
    assert transpose([[1, 2, 3], [4, 5, 6]]) == [[1, 4], [2, 5], [3, 6]]


def test_is_square():
    assert is_square([[1, 2], [3, 4]])


def test_is_square_rejects_rectangle():
    assert not is_square([[1, 2, 3], [4, 5, 6]])
"""

TEST_ARITH = """import pytest

from matrixlib.arith import add, max_entry, multiply, row_sums, scale, trace


def test_add():
    assert add([[1, 2], [3, 4]], [[10, 20], [30, 40]]) == [[11, 22], [33, 44]]


def test_add_shape_mismatch():
    with pytest.raises(ValueError):
        add([[1, 2]], [[1], [2]])


def test_scale_default():
    assert scale([[1, -2], [3, 0]]) == [[2, -4], [6, 0]]


def test_scale_factor():
    assert scale([[1, 2]], {=factor=}) == [[{=factor=}, {=2 * factor=}]]


def test_multiply():
    assert multiply([[1, 2], [3, 4]], [[5, 6], [7, 8]]) == [[19, 22], [43, 50]]


def test_multiply_rectangular():
    assert multiply([[1, 2, 3]], [[1], [2], [3]]) == [[14]]


def test_multiply_mismatch():
    with pytest.raises(ValueError):
        multiply([[1, 2]], [[1, 2]])


def test_trace():
    assert trace([[2, 9, 9], [9, 3, 9], [9, 9, 4]]) == 9


def test_row_sums():
    assert row_sums([[1, 2, 3], [4, 5, 6]]) == [6, 15]


def test_max_entry():
    assert max_entry([[1, 7], [5, 3]]) == 7
"""

TEMPLATE = ProgramTemplate(
    name="matrix_ops",
    files={
        "matrixlib/__init__.py": '"""Small dense matrices."""\n',
        "matrixlib/core.py": CORE,
        "matrixlib/arith.py": ARITH,
        "tests/test_core.py": TEST_CORE,
        "tests/test_arith.py": TEST_ARITH,
    },
    names={
        "matrixlib": ("gridlib", "linalg", "matrices"),
        "arith": ("algebra", "ops"),
        "zeros": ("blank", "zero_matrix"),
        "identity": ("eye", "unit_matrix"),
        "shape": ("dims", "size_of"),
        "transpose": ("flip", "transposed"),
        "is_square": ("square", "is_square_matrix"),
        "multiply": ("matmul", "product"),
        "scale": ("times", "scaled"),
        "row_sums": ("sum_rows", "row_totals"),
        "max_entry": ("largest", "peak"),
    },
    constants={"factor": (3, 4, 5, 7)},
)
