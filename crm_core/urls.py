from django.urls import path

from crm_core import views

urlpatterns = [
    path("", views.workspace, name="workspace"),
    path("deals/", views.deal_board, name="deal_board"),
    path("deals/pipeline/<int:pipeline_id>/", views.deal_board, name="deal_board_pipeline"),
    path("deals/new/", views.deal_create, name="deal_create"),
    path("deals/list/", views.deal_list_page, name="deal_list"),
    path("deals/<int:deal_id>/", views.deal_detail, name="deal_detail"),
    path("deals/<int:deal_id>/move/", views.deal_move, name="deal_move"),
    path("deals/<int:deal_id>/edit/", views.deal_edit, name="deal_edit"),
    path("deals/<int:deal_id>/log/", views.deal_log, name="deal_log"),
    path("deals/<int:deal_id>/tasks/", views.deal_task, name="deal_task"),
    path("deals/<int:deal_id>/items/", views.deal_item_add, name="deal_item_add"),
    path(
        "deals/<int:deal_id>/items/<int:item_id>/remove/",
        views.deal_item_remove,
        name="deal_item_remove",
    ),
    path("deals/<int:deal_id>/files/", views.deal_attach, name="deal_attach"),
    path("files/<int:attachment_id>/", views.attachment_download, name="attachment_download"),
    path("notifications/", views.notifications, name="notifications"),
    path("search/", views.search_page, name="search"),
    path("audit/", views.audit_log, name="audit_log"),
    path("leads/", views.leads_inbox, name="leads"),
    path("leads/<int:lead_id>/convert/", views.lead_convert, name="lead_convert"),
    path("leads/<int:lead_id>/reject/", views.lead_reject, name="lead_reject"),
    path("tasks/", views.tasks_my_day, name="my_day"),
    path("tasks/<int:task_id>/done/", views.task_done, name="task_done"),
    path("clients/<int:client_id>/", views.client_detail, name="client_detail"),
    path("clients/duplicates/", views.client_duplicates, name="client_duplicates"),
]
