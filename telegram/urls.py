from django.urls import path

from telegram import views

urlpatterns = [
    path("settings/telegram/", views.bot_settings, name="telegram_settings"),
    path("me/telegram/", views.my_telegram, name="my_telegram"),
    path("public/telegram/webhook/", views.webhook, name="telegram_webhook"),
]
