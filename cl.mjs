import http from 'node:http';
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const port = process.argv[2], path = process.argv[3];
let n = 0; const t = Date.now();
function one() { http.get({ port, path, agent, host: '127.0.0.1' }, (res) => { res.on('data', () => {}); res.on('end', () => { n++; if (Date.now() - t < 3000) one(); else console.log(path, n / 3, 'req/s (node http client, 1 conn)'); agent.destroy(); }); }); }
one();
