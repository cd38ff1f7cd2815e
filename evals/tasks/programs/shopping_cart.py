"""A shopping cart with line items, bulk discounts and tax."""

from mimo_agent.evals.tasks.template import ProgramTemplate

PRICING = '''"""Price arithmetic shared by the cart."""

TAX_RATE = {=tax=}
BULK_MINIMUM = {=bulk_min=}


def line_total(unit_price, quantity):
    """Price of `quantity` units."""
    return unit_price * quantity


def discounted(amount, percent):
    """`amount` reduced by `percent` per cent."""
    {% return amount * (100 - percent) / 100 || return amount - amount * percent / 100 %}


def bulk_percent(quantity, step=5):
    """Per-cent discount for buying many units: `step` per full multiple of BULK_MINIMUM."""
    if quantity < BULK_MINIMUM:
        return 0
    return min(step * (quantity // BULK_MINIMUM), 30)


def with_tax(amount, rate=TAX_RATE):
    return round(amount * (1 + rate), 2)
'''

CART = '''"""The cart itself: named line items with a unit price and a quantity."""

from shop.pricing import bulk_percent, discounted, line_total, with_tax


class Cart:
    def __init__(self):
        self.line_items = {}

    def add_item(self, item_name, unit_price, quantity=1):
        """Add units of an item; adding an item again increases its quantity."""
        if quantity <= 0:
            raise ValueError("quantity must be positive")
        if item_name in self.line_items:
            self.line_items[item_name]["qty"] += quantity
        else:
            self.line_items[item_name] = {"price": unit_price, "qty": quantity}

    def remove_item(self, item_name):
        if item_name not in self.line_items:
            raise KeyError(item_name)
        del self.line_items[item_name]

    def unit_count(self):
        {% return sum(entry["qty"] for entry in self.line_items.values()) || count = 0
        for entry in self.line_items.values():
            count += entry["qty"]
        return count %}

    def subtotal(self):
        """Sum of line totals after per-line bulk discounts."""
        amount = 0
        for entry in self.line_items.values():
            gross = line_total(entry["price"], entry["qty"])
            amount += discounted(gross, bulk_percent(entry["qty"]))
        return amount

    def grand_total(self):
        return with_tax(self.subtotal())

    def priciest_item(self):
        """Name of the item with the highest unit price, or None for an empty cart."""
        best = None
        for item_name, entry in self.line_items.items():
            if best is None or entry["price"] > self.line_items[best]["price"]:
                best = item_name
        return best

    def is_empty(self):
        return not self.line_items
'''

TEST_PRICING = """import pytest

from shop.pricing import BULK_MINIMUM, bulk_percent, discounted, line_total, with_tax


def test_line_total():
    assert line_total(2.5, 4) == 10.0


def test_discounted():
    assert discounted(200, 15) == pytest.approx(170.0)


def test_discounted_zero():
    assert discounted(80, 0) == pytest.approx(80.0)


def test_bulk_percent_below_minimum():
    assert bulk_percent({=bulk_min - 1=}) == 0


def test_bulk_percent_at_minimum():
    assert bulk_percent(BULK_MINIMUM) == 5


def test_bulk_percent_multiples():
    assert bulk_percent({=bulk_min * 3=}) == 15


def test_bulk_percent_cap():
    assert bulk_percent({=bulk_min * 20=}) == 30


def test_with_tax():
    assert with_tax(100) == {=round(100 * (1 + tax), 2)=}


def test_with_tax_custom_rate():
    assert with_tax(50, rate=0.2) == 60.0
"""

TEST_CART = """import pytest

from shop.cart import Cart


def test_empty_cart():
    cart = Cart()
    assert cart.is_empty()
    assert cart.unit_count() == 0


def test_add_and_count():
    cart = Cart()
    cart.add_item("pen", 1.5, 2)
    cart.add_item("book", 12.0)
    assert cart.unit_count() == 3
    assert not cart.is_empty()


def test_add_same_item_twice():
    cart = Cart()
    cart.add_item("pen", 1.5, 2)
    cart.add_item("pen", 1.5, 3)
    assert cart.unit_count() == 5


def test_add_rejects_zero_quantity():
    cart = Cart()
    with pytest.raises(ValueError):
        cart.add_item("pen", 1.5, 0)


def test_remove_item():
    cart = Cart()
    cart.add_item("pen", 1.5, 2)
    cart.add_item("book", 12.0)
    cart.remove_item("pen")
    assert cart.unit_count() == 1


def test_remove_missing_item():
    cart = Cart()
    with pytest.raises(KeyError):
        cart.remove_item("pen")


def test_subtotal_without_bulk():
    cart = Cart()
    cart.add_item("pen", 1.5, 2)
    cart.add_item("book", 12.0)
    assert cart.subtotal() == pytest.approx(15.0)


def test_subtotal_with_bulk():
    cart = Cart()
    cart.add_item("mug", 4.0, {=bulk_min=})
    assert cart.subtotal() == pytest.approx({=4.0 * bulk_min * 0.95=})


def test_grand_total():
    cart = Cart()
    cart.add_item("book", 20.0, 2)
    assert cart.grand_total() == {=round(40 * (1 + tax), 2)=}


def test_priciest_item():
    cart = Cart()
    cart.add_item("pen", 1.5, 10)
    cart.add_item("lamp", 30.0)
    cart.add_item("book", 12.0)
    assert cart.priciest_item() == "lamp"


def test_priciest_item_empty():
    assert Cart().priciest_item() is None
"""

TEMPLATE = ProgramTemplate(
    name="shopping_cart",
    files={
        "shop/__init__.py": '"""Shopping cart toolkit."""\n',
        "shop/pricing.py": PRICING,
        "shop/cart.py": CART,
        "tests/test_pricing.py": TEST_PRICING,
        "tests/test_cart.py": TEST_CART,
    },
    names={
        "shop": ("store", "checkout", "basket"),
        "pricing": ("prices", "rates"),
        "Cart": ("Basket", "Order", "ShoppingCart"),
        "line_items": ("entries", "contents", "lines"),
        "add_item": ("add", "put"),
        "remove_item": ("remove", "drop_item"),
        "unit_count": ("count_units", "total_quantity"),
        "grand_total": ("total", "total_with_tax"),
        "priciest_item": ("most_expensive", "top_item"),
        "bulk_percent": ("volume_discount", "bulk_rate"),
        "discounted": ("apply_discount", "reduce_by"),
        "line_total": ("extended_price", "price_for"),
        "with_tax": ("add_tax", "taxed"),
        "item_name": ("name", "label"),
        "unit_price": ("price", "each"),
        "BULK_MINIMUM": ("BULK_SIZE", "VOLUME_MIN"),
        "TAX_RATE": ("VAT", "SALES_TAX"),
    },
    constants={"tax": (0.05, 0.08, 0.1, 0.2), "bulk_min": (5, 10, 12)},
)
