"""The AI writing assistant: generate, improve and analyse posts through a fallback chain of
AI providers (official OpenAI and Anthropic SDKs), metered by a monthly credit ledger."""
