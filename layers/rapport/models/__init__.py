"""Pydantic models shared by every part of Rapport: the language the domain speaks."""
