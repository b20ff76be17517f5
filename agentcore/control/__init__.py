"""Control: guardrails and the shell policy, handoffs, verifiers and approvals.

These are the declarations an :class:`~agentcore.agent.Agent` is made of and the checks the run applies;
they use the core (messages, model, tools, context) and never the run loop, definitions or the CLI.
"""
