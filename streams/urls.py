from django.urls import path

from streams import converters
from streams.views import actions, audit, detail, events, recordings, streams, wall

converters.register()

urlpatterns = [
    path("streams/", streams.stream_list, name="stream-list"),
    path("streams/live/", streams.stream_list_live, name="stream-list-live"),
    path("streams/new/", streams.stream_create, name="stream-create"),
    path("streams/<stream_id:stream_id>/", detail.stream_detail, name="stream-detail"),
    path("streams/<stream_id:stream_id>/live/", detail.stream_live, name="stream-live"),
    path("streams/<stream_id:stream_id>/edit/", streams.stream_edit, name="stream-edit"),
    path("streams/<stream_id:stream_id>/reveal/", detail.reveal_secret, name="stream-reveal"),
    path("streams/<stream_id:stream_id>/recordings/", recordings.stream_recordings, name="stream-recordings"),
    path("streams/<stream_id:stream_id>/clips/", recordings.stream_clips, name="stream-clips"),
    path(
        "streams/<stream_id:stream_id>/<stream_action:action>/", actions.stream_action, name="stream-action"
    ),
    path("wall/", wall.wall, name="wall"),
    path("recordings/", recordings.recording_list, name="recording-list"),
    path("recordings/<media_id:media_id>/", recordings.recording_detail, name="recording-detail"),
    path("audit/", audit.audit_log, name="audit-log"),
    path("events/", events.event_list, name="event-list"),
    path("events/reapply/", events.event_reapply, name="event-reapply"),
    # FastPix's webhooks: the one view without login or CSRF (it checks the body's signature instead).
    path("webhooks/fastpix/", events.fastpix_webhook, name="fastpix-webhook"),
]
