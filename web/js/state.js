// Who is signed in (`/api/me`), shared by every page.
import { api } from './api.js';

export const state = { me: null, events: null };

export async function loadMe() {
  try {
    state.me = await api('GET', '/api/me');
  } catch (e) {
    if (e.status === 401) state.me = null;
    else throw e;
  }
  return state.me;
}

export const role = () => (state.me ? state.me.user.role : null);

export const isAdmin = () => role() === 'admin';
