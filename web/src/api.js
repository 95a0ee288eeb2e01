// The JSON API client (docs/api.md). Requests are same-origin with credentials, so the session
// cookie set by POST /login (or a proxy's Authorization header) is sent; a 401 asks for login.

export class AuthRequired extends Error {}

export async function api(name, params = {}) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
  }
  const res = await fetch(`/api/${name}?${qs}`, {
    credentials: 'same-origin',
    headers: { Accept: 'application/json' },
  });
  if (res.status === 401) throw new AuthRequired('login required');
  if (!res.ok) {
    let message = `${res.status}`;
    try {
      message = (await res.json()).error || message;
    } catch (_) {
      // not JSON
    }
    throw new Error(`/api/${name}: ${message}`);
  }
  return res.json();
}

// POST /login with the password, form-encoded as furrow run's login form sends it (docs/api.md).
// Success is a 303 to the dashboard (followed: a 2xx page); a wrong password is a 401.
export async function login(password) {
  const res = await fetch('/login', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ password }).toString(),
  });
  return res.ok;
}
