from django.urls import path

from crm_core import views

urlpatterns = [
    path("", views.workspace, name="workspace"),
    path("deals/", views.deal_board, name="deal_board"),
    path("deals/pipeline/<int:pipeline_id>/", views.deal_board, name="deal_board_pipeline"),
    path("deals/new/", views.deal_create, name="deal_create"),
    path("deals/<int:deal_id>/", views.deal_detail, name="deal_detail"),
    path("deals/<int:deal_id>/move/", views.deal_move, name="deal_move"),
    path("deals/<int:deal_id>/log/", views.deal_log, name="deal_log"),
    path("deals/<int:deal_id>/tasks/", views.deal_task, name="deal_task"),
    path("tasks/", views.tasks_my_day, name="my_day"),
    path("tasks/<int:task_id>/done/", views.task_done, name="task_done"),
    path("clients/<int:client_id>/", views.client_detail, name="client_detail"),
]
