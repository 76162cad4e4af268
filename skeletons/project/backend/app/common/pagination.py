"""Query parameters of list endpoints: `?page=1&page_size=20` (page_size <= 100, page <= 1,000,000)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

MAX_PAGE_SIZE = 100
# Keeps the offset far inside a 64-bit integer (an unbounded page is a 500 on SQLite).
MAX_PAGE = 1_000_000


class PageParams(BaseModel):
    model_config = ConfigDict(extra="ignore")

    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    page_size: int = Field(default=20, ge=1, le=MAX_PAGE_SIZE)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size
