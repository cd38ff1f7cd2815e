"""Secrets never reach trajectories: env values with secret-looking names and credential shapes."""

from __future__ import annotations

from mimo_agent.redact import MASK, Redactor


def test_env_values_with_secret_names_are_masked_anywhere() -> None:
    r = Redactor({"MY_SERVICE_TOKEN": "zzz-very-private-123", "HOME": "/home/user", "API_KEY": "short"})
    out = r.text("export X=zzz-very-private-123; cd /home/user")
    assert "zzz-very-private-123" not in out
    assert MASK in out
    assert "/home/user" in out  # not a secret name
    assert "short" in r.text("short")  # too short to redact safely


def test_credential_shapes() -> None:
    r = Redactor({})
    samples = [
        "sk-proj-abcdefghijklmnopqrstuvwx1234",
        "ghp_" + "a" * 36,
        "AKIAABCDEFGHIJKLMNOP",
        "xoxb-1234567890-abcdef",
        "hf_" + "B" * 34,
        "Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----",
    ]
    for sample in samples:
        assert MASK in r.text(sample), sample
    assert r.text("def skip(): return 'sk-short'") == "def skip(): return 'sk-short'"


def test_nested_structures() -> None:
    r = Redactor({"DB_PASSWORD": "hunter2hunter2"})
    data = {"messages": [{"content": "pw is hunter2hunter2"}], "n": 3, "tags": ("hunter2hunter2",)}
    out = r.value(data)
    assert out == {"messages": [{"content": f"pw is {MASK}"}], "n": 3, "tags": [MASK]}
