from django.apps import AppConfig


class ShipperConfig(AppConfig):
    name = "shipper"
