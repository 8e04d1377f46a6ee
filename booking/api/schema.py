"""The API's error answers in its OpenAPI schema (a drf-spectacular postprocessing hook).

Every operation may be refused, and every refusal has the body booking.api.errors gives it:
`code` for programs and `detail` for people, and for invalid input the errors of each field
under the field's name, as DRF writes them.
"""

from typing import Any

ERROR = {
    "type": "object",
    "properties": {
        "code": {"type": "string", "description": "What went wrong, for programs."},
        "detail": {"type": "string", "description": "What went wrong, in the user's language."},
    },
    "required": ["code", "detail"],
}
VALIDATION_ERROR = {
    "type": "object",
    "description": "Invalid input: each field's errors under the field's name (a list of "
    "messages, or for a nested object or list its own errors), and `code` and `detail` when "
    "the error is not about one field.",
    "properties": {
        "code": {"type": "string"},
        "detail": {
            "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
        },
    },
    "additionalProperties": True,
}
REFUSALS = {
    "400": ("ValidationError", "The input is invalid; the answer says what, field by field."),
    "401": ("Error", "Not logged in."),
    "403": ("Error", "Not logged in, or not allowed to do this (or a CSRF token is missing)."),
    "404": ("Error", "No such object, or one the user may not see."),
    "405": ("Error", "The method is not allowed here."),
    "406": ("Error", "The requested answer format is not available."),
    "409": ("Error", "A conflict: the time was taken, the plan is out of date, ..."),
    "413": ("Error", "The request body is too large."),
    "415": ("Error", "The request body's media type is not supported."),
    "422": ("Error", "A rule of the booking refuses it (notice, horizon, change cutoff, ...)."),
    "429": ("Error", "Too many requests: try again later."),
}


def error_responses(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR
    schemas["ValidationError"] = VALIDATION_ERROR
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, (component, description) in REFUSALS.items():
                responses.setdefault(
                    status,
                    {
                        "description": description,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": f"#/components/schemas/{component}"}
                            }
                        },
                    },
                )
    return result
