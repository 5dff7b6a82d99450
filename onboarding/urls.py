from django.urls import path

from onboarding import export_views, setup_views, views

urlpatterns = [
    path("import/", views.import_list, name="import_list"),
    path("import/<int:batch_id>/", views.import_batch, name="import_batch"),
    path("import/<int:batch_id>/preview/", views.import_preview, name="import_preview"),
    path("import/<int:batch_id>/start/", views.import_start, name="import_start"),
    path("import/<int:batch_id>/choices/", views.import_choices, name="import_choices"),
    path("import/<int:batch_id>/progress/", views.import_progress, name="import_progress"),
    path("import/<int:batch_id>/report.xlsx", views.import_report, name="import_report"),
    path("import/<int:batch_id>/undo/", views.import_undo, name="import_undo"),
    path("setup/", setup_views.setup_start, name="setup_start"),
    path("setup/finished/", setup_views.setup_finished, name="setup_finished"),
    path("setup/dismiss/", setup_views.setup_dismiss, name="setup_dismiss"),
    path("setup/resume/", setup_views.setup_resume, name="setup_resume"),
    path("setup/<str:step>/", setup_views.setup_step, name="setup_step"),
    path("setup/<str:step>/skip/", setup_views.setup_skip, name="setup_skip"),
    path("export/", export_views.export_list, name="export_list"),
    path("export/<int:job_id>/download/", export_views.export_download, name="export_download"),
]
