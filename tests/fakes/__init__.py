"""Test doubles: the scripted fake agent, fake model APIs and seeded homes for the real CLIs."""
