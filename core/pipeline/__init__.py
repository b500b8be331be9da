"""The MMInstruct data engine: prompts, parsers, checks and the stages that run them as jobs."""
