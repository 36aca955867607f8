"""The `filesystem://` broker `make run` uses, with every message whole before anyone can take it.

Kombu's filesystem transport creates a message file, then writes into it; a consumer that lists the folder in
between takes the empty file, fails to decode it and stops the worker ("Unrecoverable error: JSONDecodeError").
A consumer also moves the file it takes to the system's temp folder, which is a copy and a delete when that is
another file system, so two consumers can both take one message. Both happen once a thread-pool worker sends and
takes hundreds of tasks a minute. Here a message is written under a name no consumer looks at and renamed into
place, and a consumer claims a message by renaming it inside the queue's own folder: a rename is atomic, so
exactly one consumer gets each message, always complete."""

from __future__ import annotations

import os
import uuid
from queue import Empty
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

CLAIMED = ".claimed"  # a folder inside the queue's folder: never mistaken for a message (see `_get`)


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):  # type: ignore[no-untyped-def]
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = f"{final}.part"  # ends in something else than `<queue>.msg`: consumers pass it over
        try:
            with open(partial, "wb") as fh:
                fh.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc

    def _get(self, queue):  # type: ignore[no-untyped-def]
        wanted = f"{queue}.msg"
        claimed = os.path.join(self.data_folder_in, CLAIMED)
        os.makedirs(claimed, exist_ok=True)
        for name in sorted(os.listdir(self.data_folder_in)):
            if name.partition(".")[2] != wanted:
                continue
            mine = os.path.join(claimed, name)
            try:
                os.rename(os.path.join(self.data_folder_in, name), mine)
            except OSError:  # another consumer took it first
                continue
            try:
                with open(mine, "rb") as fh:
                    payload = fh.read()
                os.remove(mine)
            except OSError as exc:
                raise ChannelError(f"Cannot read file {mine!r} from queue.") from exc
            return loads(bytes_to_str(payload))
        raise Empty()


class Transport(filesystem.Transport):
    Channel = Channel
