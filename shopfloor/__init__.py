"""shopfloor: shop-floor telemetry gateway and make-to-order progress tracker."""

__version__ = "0.1.0"
