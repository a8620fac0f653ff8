-- 007_put_lock: a put checks, walks and locks in one plain statement.
--
-- sd_put_prepare (006) ran the walk and the lock as two statements inside
-- PL/pgSQL, which cost more than the statements themselves (60 µs of
-- execution against 23 µs for the same work as one SQL statement).
-- secretd now sends that statement itself (put_lock in secretd/store.c)
-- and calls sd_ensure_path only when the path is missing.
DROP FUNCTION sd_put_prepare(bigint, text[], integer);
