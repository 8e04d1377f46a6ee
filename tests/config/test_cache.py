"""config.cache.RedisCache: Django's Redis cache, keeping one client object per pool."""

import uuid

import pytest
from django.core.cache import caches
from django.test import override_settings

from config.cache import RedisCache, ReusingRedisCacheClient

URL = "redis://127.0.0.1:6379/15"


def test_one_client_object_serves_every_operation_on_a_pool():
    client = ReusingRedisCacheClient([URL])

    first = client.get_client("a")

    assert client.get_client("b") is first
    assert client.get_client("a", write=True) is first  # one server: reads and writes share it


def test_each_server_keeps_its_own_client():
    client = ReusingRedisCacheClient([URL, "redis://127.0.0.1:6379/14"])

    writer = client.get_client(write=True)
    reader = client.get_client()

    assert reader is not writer
    assert client.get_client(write=True) is writer
    assert client.get_client() is reader


def test_the_backend_uses_the_reusing_client():
    backend = RedisCache(URL, {})

    assert isinstance(backend._cache, ReusingRedisCacheClient)


@pytest.mark.redis
def test_values_go_to_redis_and_come_back():
    with override_settings(
        CACHES={"default": {"BACKEND": "config.cache.RedisCache", "LOCATION": URL}}
    ):
        cache = caches.create_connection("default")
        cache.set("config-cache-test", {"session": [1, 2]}, 30)
        assert cache.get("config-cache-test") == {"session": [1, 2]}
        cache.delete("config-cache-test")
        assert cache.get("config-cache-test") is None


@pytest.mark.redis
def test_clearing_the_cache_leaves_celerys_queued_jobs(settings):
    import redis

    from config.celery import app

    queue = f"test-{uuid.uuid4().hex}"
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        with app.connection_for_write() as connection:
            app.send_task(
                "booking.tasks.forget_expired_idempotency_keys", queue=queue, connection=connection
            )
        assert broker.llen(queue) == 1

        caches["default"].clear()

        assert broker.llen(queue) == 1
    finally:
        broker.delete(queue)
