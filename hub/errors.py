"""Errors the hub can answer with.

    HubError                          3000  generic server error
    ├── ClientRequestError            2000  the caller sent something we cannot process
    │   ├── InvalidParameters         2001
    │   │   └── InvalidJson           2001  HTTP 400: the body is not JSON at all
    │   ├── NotEnoughInformation      2002
    │   ├── UnknownLocation           2003
    │   ├── UnknownToken              2004  (real-time authorization answers HTTP 404)
    │   ├── Unauthorized              2000  HTTP 401: no token, unknown token, token A outside registration
    │   ├── NotFound                  2000  HTTP 404: no such resource
    │   ├── ForeignParty              2001  HTTP 404: a Client Owned Object URL of another party
    │   └── MethodNotAllowed          2000  HTTP 405: e.g. a second credentials POST
    ├── ServerError                   3000
    │   ├── ClientApiUnusable         3001  the party's versions or details could not be read
    │   ├── UnsupportedVersion        3002  no version in common
    │   └── NoMatchingEndpoints       3003  the party lacks endpoints the hub needs
    └── RoutingError                  4000  trouble while routing between parties
        ├── UnknownReceiver           4001
        ├── ForwardTimeout            4002
        └── ReceiverNotConnected      4003

Once a request has reached the OCPI layer, the answer is HTTP 200 with the OCPI code in the
envelope; hub errors (4xxx) follow that rule too. The few exceptions carry their own ``http_status``.
"""

from __future__ import annotations

from hub.ocpi.status import OcpiStatus


class HubError(Exception):
    ocpi_status: int = OcpiStatus.SERVER_ERROR
    http_status: int = 200

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ClientRequestError(HubError):
    ocpi_status = OcpiStatus.CLIENT_ERROR


class InvalidParameters(ClientRequestError):
    ocpi_status = OcpiStatus.INVALID_PARAMETERS


class InvalidJson(InvalidParameters):
    http_status = 400


class NotEnoughInformation(ClientRequestError):
    ocpi_status = OcpiStatus.NOT_ENOUGH_INFORMATION


class UnknownLocation(ClientRequestError):
    ocpi_status = OcpiStatus.UNKNOWN_LOCATION


class UnknownToken(ClientRequestError):
    ocpi_status = OcpiStatus.UNKNOWN_TOKEN
    http_status = 404


class Unauthorized(ClientRequestError):
    http_status = 401


class NotFound(ClientRequestError):
    http_status = 404


class ForeignParty(ClientRequestError):
    """Digest §1.4: access to another party's Client Owned Object URL MAY be answered 404."""

    ocpi_status = OcpiStatus.INVALID_PARAMETERS
    http_status = 404


class MethodNotAllowed(ClientRequestError):
    http_status = 405


class ServerError(HubError):
    ocpi_status = OcpiStatus.SERVER_ERROR


class ClientApiUnusable(ServerError):
    ocpi_status = OcpiStatus.UNABLE_TO_USE_CLIENT_API


class UnsupportedVersion(ServerError):
    ocpi_status = OcpiStatus.UNSUPPORTED_VERSION


class NoMatchingEndpoints(ServerError):
    ocpi_status = OcpiStatus.NO_MATCHING_ENDPOINTS


class RoutingError(HubError):
    ocpi_status = OcpiStatus.HUB_ERROR


class UnknownReceiver(RoutingError):
    ocpi_status = OcpiStatus.UNKNOWN_RECEIVER


class ForwardTimeout(RoutingError):
    ocpi_status = OcpiStatus.FORWARD_TIMEOUT


class ReceiverNotConnected(RoutingError):
    ocpi_status = OcpiStatus.CONNECTION_PROBLEM
