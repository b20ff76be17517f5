"""Functions the tests reference from YAML as ``tests.surfaces.fixtures_pkg:…``."""

from __future__ import annotations

from agentcore.control.guardrails import Check, Verdict, allow, tripwire


def lookup_order(order_id: str) -> str:
    """Look up an order.

    Args:
        order_id: The order number.
    """
    return f"order {order_id}: shipped"


def no_refunds_over(check: Check) -> Verdict:
    """Trips when the final text mentions a refund over 500."""
    return tripwire("refund too large") if "1000" in (check.text or "") else allow()


def keep_last_two(items: list) -> list:  # type: ignore[type-arg]
    return items[-2:]


NOT_A_FUNCTION = 42


def block_secrets(check: Check) -> Verdict:
    """An input guardrail: trips when the user pastes a password."""
    return tripwire("the input contains a password") if "password" in (check.text or "") else allow()


def never_satisfied(ctx: object, output: object) -> str:
    """A verifier that always fails (a string is the feedback)."""
    return "tests failed: 1 failed, 0 passed"
