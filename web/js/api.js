// The API client: JSON over fetch, same-origin cookies, errors as `ApiError` with the server's
// stable code.

export class ApiError extends Error {
  constructor(status, code, message, retryAfter = null) {
    super(message);
    this.status = status;
    this.code = code;
    /** Seconds the server asked us to wait (429), from `Retry-After`. */
    this.retryAfter = retryAfter;
  }
}

export async function api(method, path, body, headers = {}) {
  const init = { method, credentials: 'same-origin', headers: { ...headers } };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let r;
  try {
    r = await fetch(path, init);
  } catch {
    // Nothing is retried by itself: a change (an approval, a send) is made again only by the
    // person, once they see what happened.
    throw new ApiError(0, 'network', method === 'GET'
      ? 'The server cannot be reached. Check your connection and retry.'
      : 'The server could not be reached, so this may not have been done. Nothing is retried by itself: when you are connected again, reload the page to see where things stand, then try again if it is still needed.');
  }
  let data = null;
  try { data = await r.json(); } catch { /* empty body */ }
  if (!r.ok) {
    const e = data && data.error;
    const wait = Number.parseInt(r.headers.get('retry-after') || '', 10);
    throw new ApiError(r.status, e ? e.code : `http_${r.status}`, e ? e.message : r.statusText,
      Number.isFinite(wait) && wait >= 0 ? wait : null);
  }
  return data;
}
