from django.urls import path

from crm_core.documents import views

urlpatterns = [
    path("settings/documents/", views.template_list, name="document_templates"),
    path("settings/documents/new/", views.template_edit, name="document_template_new"),
    path(
        "settings/documents/<int:template_id>/",
        views.template_edit,
        name="document_template_edit",
    ),
    path("settings/documents/requisites/", views.requisites_edit, name="document_requisites"),
    path("deals/<int:deal_id>/documents/", views.deal_document, name="deal_document"),
    path("documents/<int:document_id>/", views.document_download, name="document_download"),
    path("documents/<int:document_id>/paid/", views.invoice_paid, name="invoice_paid"),
]
