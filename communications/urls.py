from django.urls import path

from communications import oauth_views, views

urlpatterns = [
    path("mail/", views.inbox, name="mail_inbox"),
    path("mail/c/<int:conversation_id>/", views.conversation, name="mail_conversation"),
    path("mail/write/", views.compose, name="mail_compose"),
    path("mail/files/<int:attachment_id>/", views.attachment, name="mail_attachment"),
    path("mail/mailboxes/", views.mailbox_list, name="mail_mailboxes"),
    path("mail/mailboxes/new/", views.mailbox_edit, name="mail_mailbox_new"),
    path("mail/mailboxes/<int:mailbox_id>/", views.mailbox_edit, name="mail_mailbox"),
    path("mail/mailboxes/oauth/finish/", oauth_views.finish, name="mail_oauth_finish"),
    path("mail/mailboxes/oauth/<slug:provider_key>/", oauth_views.start, name="mail_oauth_start"),
    path("mail/mailboxes/<int:mailbox_id>/sync/", views.mailbox_sync, name="mail_mailbox_sync"),
    path(
        "mail/mailboxes/<int:mailbox_id>/delete/", views.mailbox_delete, name="mail_mailbox_delete"
    ),
    path("mail/templates/", views.template_list, name="mail_templates"),
    path("mail/templates/new/", views.template_edit, name="mail_template_new"),
    path("mail/templates/<int:template_id>/", views.template_edit, name="mail_template"),
]
