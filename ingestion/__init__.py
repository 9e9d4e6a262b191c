"""Intake of the anti-corruption strategy returns (PCTN) into the warehouse."""
