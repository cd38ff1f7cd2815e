"""Bank accounts with a transaction history and ledger reports."""

from mimo_agent.evals.tasks.template import ProgramTemplate

ACCOUNTS = '''"""Accounts that keep every transaction."""

OVERDRAFT_LIMIT = {=overdraft=}


class Account:
    def __init__(self, owner, opening_balance=0):
        self.owner = owner
        self.balance = opening_balance
        self.history = []

    def deposit(self, amount):
        if amount <= 0:
            raise ValueError("deposit must be positive")
        self.balance += amount
        self.history.append({"kind": "deposit", "amount": amount})

    def withdraw(self, amount):
        """Take money out; the balance may go down to minus OVERDRAFT_LIMIT."""
        if amount <= 0:
            raise ValueError("withdrawal must be positive")
        if self.balance - amount < -OVERDRAFT_LIMIT:
            raise ValueError("insufficient funds")
        self.balance -= amount
        self.history.append({"kind": "withdrawal", "amount": amount})

    def is_overdrawn(self):
        return self.balance < 0


def transfer(source, target, amount):
    """Move `amount` between two accounts; nothing changes when the withdrawal is refused."""
    source.withdraw(amount)
    target.deposit(amount)
    return source.balance, target.balance
'''

LEDGER = '''"""Reports over an account's transaction history."""


def total_of_kind(history, kind):
    {% total = 0
    for entry in history:
        if entry["kind"] == kind:
            total += entry["amount"]
    return total || return sum(entry["amount"] for entry in history if entry["kind"] == kind) %}


def largest_withdrawal(history):
    """Biggest single withdrawal, 0 when there was none."""
    amounts = [entry["amount"] for entry in history if entry["kind"] == "withdrawal"]
    return max(amounts) if amounts else 0


def first_large(history, threshold):
    """Index of the first transaction of at least `threshold`, or -1."""
    for position in range(len(history)):
        if history[position]["amount"] >= threshold:
            return position
    return -1


def compound(balance, rate, years=1):
    """Balance after `years` of yearly compound interest, rounded to cents."""
    for _ in range(years):
        balance = balance * (1 + rate)
    return round(balance, 2)


def recent(history, count=3):
    """The last `count` transactions, newest first, as 'kind:amount' strings."""
    latest = history[-count:]
    return [entry["kind"] + ":" + str(entry["amount"]) for entry in reversed(latest)]
'''

TEST_ACCOUNTS = """import pytest

from bank.accounts import Account, transfer


def test_deposit():
    account = Account("ann")
    account.deposit(50)
    assert account.balance == 50


def test_deposit_rejects_negative():
    account = Account("ann")
    with pytest.raises(ValueError):
        account.deposit(-5)


def test_withdraw():
    account = Account("ann", 100)
    account.withdraw(30)
    assert account.balance == 70
    assert not account.is_overdrawn()


def test_withdraw_into_overdraft():
    account = Account("ann", 10)
    account.withdraw({=10 + overdraft=})
    assert account.balance == {=-overdraft=}
    assert account.is_overdrawn()


def test_withdraw_beyond_overdraft():
    account = Account("ann", 10)
    with pytest.raises(ValueError):
        account.withdraw({=11 + overdraft=})


def test_history_kinds():
    account = Account("ann")
    account.deposit(20)
    account.withdraw(5)
    assert [entry["kind"] for entry in account.history] == ["deposit", "withdrawal"]


def test_transfer():
    source = Account("ann", 100)
    target = Account("bob", 5)
    assert transfer(source, target, 40) == (60, 45)
"""

TEST_LEDGER = """from bank.ledger import compound, first_large, largest_withdrawal, recent, total_of_kind

HISTORY = [
    {"kind": "deposit", "amount": 100},
    {"kind": "withdrawal", "amount": 30},
    {"kind": "deposit", "amount": 250},
    {"kind": "withdrawal", "amount": 45},
    {"kind": "deposit", "amount": 10},
]


def test_total_deposits():
    assert total_of_kind(HISTORY, "deposit") == 360


def test_total_withdrawals():
    assert total_of_kind(HISTORY, "withdrawal") == 75


def test_largest_withdrawal():
    assert largest_withdrawal(HISTORY) == 45


def test_largest_withdrawal_none():
    assert largest_withdrawal(HISTORY[:1]) == 0


def test_first_large():
    assert first_large(HISTORY, 200) == 2


def test_first_large_exact():
    assert first_large(HISTORY, 100) == 0


def test_first_large_missing():
    assert first_large(HISTORY, 1000) == -1


def test_compound_one_year():
    assert compound(1000, {=rate=}) == {=round(1000 * (1 + rate), 2)=}


def test_compound_three_years():
    assert compound(1000, 0.1, 3) == 1331.0


def test_recent():
    assert recent(HISTORY) == ["deposit:10", "withdrawal:45", "deposit:250"]


def test_recent_two():
    assert recent(HISTORY, 2) == ["deposit:10", "withdrawal:45"]
"""

TEMPLATE = ProgramTemplate(
    name="bank_ledger",
    files={
        "bank/__init__.py": '"""Accounts and ledgers."""\n',
        "bank/accounts.py": ACCOUNTS,
        "bank/ledger.py": LEDGER,
        "tests/test_accounts.py": TEST_ACCOUNTS,
        "tests/test_ledger.py": TEST_LEDGER,
    },
    names={
        "bank": ("banking", "finance", "moneybox"),
        "accounts": ("account", "wallets"),
        "ledger": ("reports", "journal"),
        "Account": ("Wallet", "BankAccount"),
        "opening_balance": ("initial", "starting_balance"),
        "is_overdrawn": ("in_debt", "is_negative"),
        "transfer": ("move_money", "send"),
        "total_of_kind": ("sum_kind", "kind_total"),
        "largest_withdrawal": ("biggest_withdrawal", "max_withdrawal"),
        "first_large": ("first_at_least", "find_large"),
        "compound": ("grow", "with_interest"),
        "recent": ("latest_entries", "last_transactions"),
        "OVERDRAFT_LIMIT": ("OVERDRAFT", "CREDIT_LINE"),
    },
    constants={"overdraft": (20, 50, 100), "rate": (0.02, 0.05, 0.1)},
)
