"""Polynomials as coefficient lists, lowest power first."""

from mimo_agent.evals.tasks.template import ProgramTemplate

CORE = '''"""Arithmetic on polynomials: [c0, c1, c2] means c0 + c1*x + c2*x**2."""


def trim(coeffs):
    """Drop trailing zero coefficients (the zero polynomial is [])."""
    result = list(coeffs)
    while result and result[-1] == 0:
        result.pop()
    return result


def degree(coeffs):
    return len(trim(coeffs)) - 1


def evaluate(coeffs, x):
    """Horner's rule."""
    {% value = 0
    for c in reversed(coeffs):
        value = value * x + c
    return value || return sum(c * x ** power for power, c in enumerate(coeffs)) %}


def add(p, q):
    size = max(len(p), len(q))
    padded_p = list(p) + [0] * (size - len(p))
    padded_q = list(q) + [0] * (size - len(q))
    return trim([a + b for a, b in zip(padded_p, padded_q)])


def multiply(p, q):
    if not p or not q:
        return []
    result = [0] * (len(p) + len(q) - 1)
    for i, a in enumerate(p):
        for j, b in enumerate(q):
            result[i + j] += a * b
    return trim(result)


def derivative(coeffs):
    return trim([power * c for power, c in enumerate(coeffs)][1:])
'''

TEXT = '''"""Human-readable polynomials."""

from poly.core import evaluate, trim

VARIABLE = "x"


def term(c, power):
    if power == 0:
        return str(c)
    body = VARIABLE if power == 1 else VARIABLE + "^" + str(power)
    return body if c == 1 else str(c) + body


def to_text(coeffs):
    """Highest power first, zero terms skipped: [1, 0, 3] -> '3x^2 + 1'."""
    parts = [term(c, power) for power, c in enumerate(trim(coeffs)) if c != 0]
    if not parts:
        return "0"
    return " + ".join(reversed(parts))


def roots_in(coeffs, low, high, step={=step=}):
    """Integer points in [low, high] (every `step`) where the polynomial is zero."""
    return [x for x in range(low, high + 1, step) if evaluate(coeffs, x) == 0]
'''

TEST_CORE = """from poly.core import add, degree, derivative, evaluate, multiply, trim


def test_trim():
    assert trim([1, 2, 0, 0]) == [1, 2]


def test_degree():
    assert degree([5, 0, 3, 0]) == 2


def test_degree_constant():
    assert degree([7]) == 0


def test_evaluate():
    assert evaluate([1, -3, 2], 4) == 21


def test_evaluate_at_zero():
    assert evaluate([6, 1, 1], 0) == 6


def test_add():
    assert add([1, 2], [3, 4, 5]) == [4, 6, 5]


def test_add_cancels():
    assert add([1, 2, 3], [0, 0, -3]) == [1, 2]


def test_multiply():
    assert multiply([1, 1], [-1, 1]) == [-1, 0, 1]


def test_multiply_empty():
    assert multiply([], [1, 2]) == []


def test_derivative():
    assert derivative([5, 3, 0, 2]) == [3, 0, 6]


def test_derivative_constant():
    assert derivative([{=step + 3=}]) == []
"""

TEST_TEXT = """from poly.text import roots_in, term, to_text


def test_term():
    assert term(4, 3) == "4x^3"
    assert term(1, 1) == "x"


def test_to_text():
    assert to_text([1, 0, 3]) == "3x^2 + 1"


def test_to_text_zero():
    assert to_text([0, 0]) == "0"


def test_roots_in():
    assert roots_in([6, -5, 1], -5, 5) == {=[r for r in (2, 3) if (r + 5) % step == 0]=}


def test_roots_in_step_one():
    assert roots_in([-4, 0, 1], -3, 3, step=1) == [-2, 2]
"""

TEMPLATE = ProgramTemplate(
    name="polynomial",
    files={
        "poly/__init__.py": '"""Polynomials."""\n',
        "poly/core.py": CORE,
        "poly/text.py": TEXT,
        "tests/test_core.py": TEST_CORE,
        "tests/test_text.py": TEST_TEXT,
    },
    names={
        "poly": ("polynom", "algebra", "coeffs_kit"),
        "text": ("pretty", "render"),
        "trim": ("normalize", "strip_zeros"),
        "degree": ("order", "deg"),
        "evaluate": ("value_at", "horner"),
        "multiply": ("times", "mul"),
        "derivative": ("differentiate", "deriv"),
        "term": ("monomial", "format_term"),
        "to_text": ("as_string", "show"),
        "roots_in": ("integer_roots", "zeros_between"),
        "VARIABLE": ("SYMBOL", "VAR_NAME"),
    },
    constants={"step": (1, 1, 2)},
)
