"""agentcore in 20 lines: two tools and a typed answer. Run: python examples/quickstart.py"""
from pydantic import BaseModel

from agentcore import Agent, Runner, tool


@tool
def add(a: float, b: float) -> float:
    """Add two numbers."""
    return a + b

@tool
def multiply(a: float, b: float) -> float:
    """Multiply two numbers."""
    return a * b

class Answer(BaseModel):
    value: float
    explanation: str

agent = Agent(name="math", model="openai:gpt-5-mini", tools=[add, multiply], output_type=Answer)
print(Runner.run_sync(agent, "What is (3 + 4) * 6? Use the tools.").final_output)
