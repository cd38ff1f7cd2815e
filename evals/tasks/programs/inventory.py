"""Warehouse stock levels and reports."""

from mimo_agent.evals.tasks.template import ProgramTemplate

STOCK = '''"""Units on hand per SKU."""

LOW_STOCK = {=low=}


class Stockroom:
    def __init__(self):
        self.levels = {}

    def receive(self, sku, quantity):
        if quantity <= 0:
            raise ValueError("quantity must be positive")
        self.levels[sku] = self.levels.get(sku, 0) + quantity

    def ship(self, sku, quantity):
        """Remove units; refuses to ship more than is on hand."""
        on_hand = self.levels.get(sku, 0)
        if quantity > on_hand:
            raise ValueError("not enough " + sku)
        self.levels[sku] = on_hand - quantity

    def on_hand(self, sku):
        return self.levels.get(sku, 0)

    def low_stock(self, threshold=LOW_STOCK):
        """SKUs with fewer than `threshold` units, sorted."""
        {% return sorted(sku for sku, count in self.levels.items() if count < threshold) || result = []
        for sku, count in self.levels.items():
            if count < threshold:
                result.append(sku)
        return sorted(result) %}

    def out_of_stock(self):
        return [sku for sku in sorted(self.levels) if not self.levels[sku]]
'''

REPORTS = '''"""Reports across a stockroom's levels."""


def total_units(levels):
    total = 0
    for count in levels.values():
        total += count
    return total


def stock_value(levels, prices):
    """Value of all units; SKUs without a price count as zero."""
    return round(sum(count * prices.get(sku, 0) for sku, count in levels.items()), 2)


def restock_plan(levels, target={=target=}):
    """Units to order per SKU to reach `target`; SKUs at or above it are left out."""
    plan = {}
    for sku, count in levels.items():
        if count < target:
            plan[sku] = target - count
    return plan


def largest_holding(levels):
    """The SKU with most units (alphabetically first on a tie), None when empty."""
    best = None
    for sku in sorted(levels):
        if best is None or levels[sku] > levels[best]:
            best = sku
    return best
'''

TEST_STOCK = """import pytest

from inventory.stock import Stockroom


def test_receive():
    room = Stockroom()
    room.receive("bolt", 10)
    room.receive("bolt", 5)
    assert room.on_hand("bolt") == 15


def test_receive_rejects_zero():
    room = Stockroom()
    with pytest.raises(ValueError):
        room.receive("bolt", 0)


def test_ship():
    room = Stockroom()
    room.receive("nut", 8)
    room.ship("nut", 3)
    assert room.on_hand("nut") == 5


def test_ship_everything():
    room = Stockroom()
    room.receive("nut", 8)
    room.ship("nut", 8)
    assert room.on_hand("nut") == 0
    assert room.out_of_stock() == ["nut"]


def test_ship_too_many():
    room = Stockroom()
    room.receive("nut", 2)
    with pytest.raises(ValueError):
        room.ship("nut", 3)


def test_on_hand_unknown():
    assert Stockroom().on_hand("gear") == 0


def test_low_stock_default():
    room = Stockroom()
    room.receive("bolt", {=low - 1=})
    room.receive("nut", {=low=})
    room.receive("gear", 1)
    assert room.low_stock() == ["bolt", "gear"]


def test_low_stock_threshold():
    room = Stockroom()
    room.receive("bolt", 4)
    room.receive("nut", 9)
    assert room.low_stock(5) == ["bolt"]
"""

TEST_REPORTS = """from inventory.reports import largest_holding, restock_plan, stock_value, total_units

LEVELS = {"bolt": 12, "nut": 30, "gear": 4}


def test_total_units():
    assert total_units(LEVELS) == 46


def test_stock_value():
    assert stock_value(LEVELS, {"bolt": 0.5, "nut": 0.1, "gear": 2.25}) == 18.0


def test_stock_value_missing_price():
    assert stock_value(LEVELS, {"gear": 1.0}) == 4.0


def test_restock_plan_default():
    assert restock_plan({"bolt": 1, "nut": {=target=}}) == {"bolt": {=target - 1=}}


def test_restock_plan_target():
    assert restock_plan(LEVELS, 20) == {"bolt": 8, "gear": 16}


def test_largest_holding():
    assert largest_holding(LEVELS) == "nut"


def test_largest_holding_tie():
    assert largest_holding({"b": 3, "a": 3}) == "a"


def test_largest_holding_empty():
    assert largest_holding({}) is None
"""

TEMPLATE = ProgramTemplate(
    name="inventory",
    files={
        "inventory/__init__.py": '"""Inventory tracking."""\n',
        "inventory/stock.py": STOCK,
        "inventory/reports.py": REPORTS,
        "tests/test_stock.py": TEST_STOCK,
        "tests/test_reports.py": TEST_REPORTS,
    },
    names={
        "inventory": ("warehouse", "stockkeeping", "depot"),
        "stock": ("levels_store", "storeroom"),
        "reports": ("summary", "analysis"),
        "Stockroom": ("Warehouse", "Depot", "Store"),
        "levels": ("counts", "units"),
        "receive": ("restock", "add_units"),
        "ship": ("dispatch", "take"),
        "on_hand": ("available", "quantity_of"),
        "low_stock": ("running_low", "needs_reorder"),
        "out_of_stock": ("empty_skus", "sold_out"),
        "total_units": ("unit_total", "count_all"),
        "stock_value": ("valuation", "inventory_value"),
        "restock_plan": ("reorder_plan", "order_list"),
        "largest_holding": ("top_sku", "most_stocked"),
        "LOW_STOCK": ("REORDER_LEVEL", "LOW_WATER"),
    },
    constants={"low": (3, 5, 10), "target": (25, 50, 100)},
)
