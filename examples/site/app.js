// Shows the cache's hit rate, read from the admin endpoint (answers loopback clients only).
const target = document.getElementById('hits');
try {
  const res = await fetch('/_cachefs/stats', { cache: 'no-store' });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const stats = await res.json();
  const rate = (stats.hitRate * 100).toFixed(1);
  target.textContent = `${stats.entries} files cached, ${stats.hits} hits, ${stats.misses} misses (hit rate ${rate}%).`;
} catch (err) {
  target.textContent = `Statistics are not available here (${err.message}).`;
}
