"""The one Graph API client of SocialHub. Import from here:

from socialhub.graph import GraphClient, GraphError, GraphAuthError, BatchRequest
"""

from .client import BatchRequest, GraphClient, format_fields
from .errors import (
    GraphAuthError,
    GraphError,
    GraphPermissionError,
    GraphRateLimitError,
    GraphTransientError,
    GraphValidationError,
)

__all__ = [
    "BatchRequest",
    "GraphAuthError",
    "GraphClient",
    "GraphError",
    "GraphPermissionError",
    "GraphRateLimitError",
    "GraphTransientError",
    "GraphValidationError",
    "format_fields",
]
