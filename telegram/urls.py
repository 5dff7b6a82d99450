from django.urls import path

from telegram import chat_views, views

urlpatterns = [
    path("settings/telegram/", views.bot_settings, name="telegram_settings"),
    path("me/telegram/", views.my_telegram, name="my_telegram"),
    path("public/telegram/webhook/", views.webhook, name="telegram_webhook"),
    path("telegram/c/<int:conversation_id>/", chat_views.chat, name="telegram_chat"),
    path("telegram/card/", chat_views.card_chat, name="telegram_card_chat"),
]
