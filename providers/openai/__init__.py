"""OpenAI APIs: :mod:`.responses` (the Responses API, ``openai:``) and :mod:`.chat` (any
OpenAI-compatible Chat Completions server, ``openai-chat:``)."""
