from django.urls import path

from exchange1c import views

urlpatterns = [
    path("1c/exchange/", views.exchange, name="exchange1c_endpoint"),
    path("settings/1c/", views.exchange_settings, name="exchange1c_settings"),
]
