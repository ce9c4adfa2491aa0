"""Renderers: terminal tables, JSON, Markdown, SARIF and ASFF."""
