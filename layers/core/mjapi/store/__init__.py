"""DynamoDB access. Every state change is a conditional write, so retries and duplicate events are harmless."""
