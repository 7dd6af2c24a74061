"""Serve recorded clips as looping live RTSP cameras, for the live-stream tests and benches.

Run with Debian's /usr/bin/python3 (the venv's Python cannot import gi):
    /usr/bin/python3 tests/rtsp_server.py PORT CLIP [CLIP ...]
Clip i is served at rtsp://127.0.0.1:PORT/cam<i+1>. A player pipeline per clip decodes it
in real time and loops it forever into an internal channel, like a camera that is always
on; each mount re-encodes its channel with x264 (1 s keyframes), one encoder shared by all
of the mount's clients. Prints "ready" once it listens.
"""

import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

FPS = 25


def play_looping(clip: str, channel: str) -> Gst.Pipeline:
    player = Gst.parse_launch(
        f'filesrc location="{clip}" ! decodebin ! videoconvert ! intervideosink channel={channel}'
    )

    def seek(flags: Gst.SeekFlags) -> None:
        # Segment seeks end in SEGMENT_DONE instead of EOS, and keep the clock running.
        player.seek_simple(Gst.Format.TIME, flags | Gst.SeekFlags.SEGMENT, 0)

    def on_message(_bus: Gst.Bus, message: Gst.Message) -> None:
        if message.type == Gst.MessageType.SEGMENT_DONE:
            seek(Gst.SeekFlags.NONE)
        elif message.type == Gst.MessageType.ERROR:
            sys.exit(f"{clip}: {message.parse_error()[0].message}")

    bus = player.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_message)
    player.set_state(Gst.State.PAUSED)
    player.get_state(Gst.CLOCK_TIME_NONE)
    seek(Gst.SeekFlags.FLUSH)
    player.set_state(Gst.State.PLAYING)
    return player


def main() -> None:
    Gst.init(None)
    port, clips = sys.argv[1], sys.argv[2:]
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(port)
    mounts = server.get_mount_points()
    players = []
    for i, clip in enumerate(clips, start=1):
        players.append(play_looping(clip, f"cam{i}"))
        factory = GstRtspServer.RTSPMediaFactory()
        # sliced-threads=false: with zerolatency slices, OpenCV sees each keyframe twice.
        factory.set_launch(
            f"( intervideosrc channel=cam{i} ! video/x-raw,framerate={FPS}/1 ! videoconvert ! "
            "video/x-raw,format=I420 ! x264enc tune=zerolatency sliced-threads=false "
            f"speed-preset=ultrafast key-int-max={FPS} ! "
            "rtph264pay name=pay0 pt=96 config-interval=1 )"
        )
        factory.set_shared(True)
        mounts.add_factory(f"/cam{i}", factory)
    if server.attach(None) == 0:
        sys.exit(f"cannot listen on port {port}")
    print("ready", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
