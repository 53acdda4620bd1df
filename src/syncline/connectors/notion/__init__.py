"""Notion: the `files` pipeline over the Notion API (pages found by search or below chosen
pages, their blocks rendered to Markdown with their properties as YAML front matter)."""

from syncline.connectors.notion.connector import spec

__all__ = ["spec"]
