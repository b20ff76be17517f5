"""Durable runs on DBOS Transact and Postgres, executed by worker processes (``pip install agentcore[durable]``).

A durable run is a DBOS workflow whose id is the run id and whose steps are the run's model calls,
tool calls, guardrail checks and verifiers (see docs/durable.md for what runs at most once and what
at least once). :class:`Worker` executes runs from the queue and recovers those of dead workers;
:class:`DurableRunner` submits runs and awaits their results from any process.
"""

from .client import DurableRunner
from .engine import DurableResult, register_agents
from .steps import DurableStepError
from .worker import Worker

__all__ = ["DurableResult", "DurableRunner", "DurableStepError", "Worker", "register_agents"]
