"""Control: guardrails and the shell policy, handoffs, verifiers and approvals.

These are the declarations an :class:`~agentcore.agent.Agent` is made of and the checks the run applies;
they use the core (messages, model, tools, context) and never the run loop, definitions or the CLI.
"""

from . import guardrails as _guardrails
from . import shell_policy as _shell_policy

# ShellPolicy moved to shell_policy.py; `agentcore.control.guardrails.ShellPolicy` keeps working
# (an import in guardrails.py would be a circle: shell_policy builds on guardrails).
_guardrails.ShellPolicy = _shell_policy.ShellPolicy  # type: ignore[misc]
_guardrails.split_commands = _shell_policy.split_commands
