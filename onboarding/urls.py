from django.urls import path

from onboarding import export_views, views

urlpatterns = [
    path("import/", views.import_list, name="import_list"),
    path("import/<int:batch_id>/", views.import_batch, name="import_batch"),
    path("import/<int:batch_id>/preview/", views.import_preview, name="import_preview"),
    path("import/<int:batch_id>/start/", views.import_start, name="import_start"),
    path("import/<int:batch_id>/progress/", views.import_progress, name="import_progress"),
    path("import/<int:batch_id>/report.xlsx", views.import_report, name="import_report"),
    path("import/<int:batch_id>/undo/", views.import_undo, name="import_undo"),
    path("export/", export_views.export_list, name="export_list"),
    path("export/<int:job_id>/download/", export_views.export_download, name="export_download"),
]
