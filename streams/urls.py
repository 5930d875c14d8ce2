from django.urls import path, re_path

from streams.views import actions, audit, recordings, streams

urlpatterns = [
    path("streams/", streams.stream_list, name="stream-list"),
    path("streams/live/", streams.stream_list_live, name="stream-list-live"),
    path("streams/new/", streams.stream_create, name="stream-create"),
    path("streams/<str:stream_id>/", streams.stream_detail, name="stream-detail"),
    path("streams/<str:stream_id>/live/", streams.stream_live, name="stream-live"),
    path("streams/<str:stream_id>/edit/", streams.stream_edit, name="stream-edit"),
    path("streams/<str:stream_id>/reveal/", streams.reveal_secret, name="stream-reveal"),
    path("streams/<str:stream_id>/recordings/", recordings.stream_recordings, name="stream-recordings"),
    path("streams/<str:stream_id>/clips/", recordings.stream_clips, name="stream-clips"),
    re_path(
        r"^streams/(?P<stream_id>[^/]+)/(?P<action>enable|disable|finish|delete)/$",
        actions.stream_action,
        name="stream-action",
    ),
    path("recordings/", recordings.recording_list, name="recording-list"),
    path("recordings/<str:media_id>/", recordings.recording_detail, name="recording-detail"),
    path("audit/", audit.audit_log, name="audit-log"),
]
