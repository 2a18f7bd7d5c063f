/** Sign in with an API token; it is checked against the API before it is kept in localStorage. */
import { gql, setToken } from '../api';
import { h } from '../dom';
import { Q } from '../queries';
import { navigate } from '../router';
import { field, notice } from '../components/ui';

export function signInPage(outlet: HTMLElement): void {
  const msg = notice();
  const input = h('input', { type: 'password', name: 'token', autocomplete: 'current-password', required: true, spellcheck: 'false', placeholder: 'op_…' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h('form', {
    class: 'card signin', 'aria-labelledby': 'signin-title',
    onsubmit: async (e: Event) => {
      e.preventDefault();
      msg.clear();
      submit.disabled = true;
      const token = input.value.trim();
      try {
        const { team } = await gql<{ team: { name: string } }>(Q.team, {}, token);
        setToken(token);
        navigate(new URLSearchParams(location.search).get('next') || '/exports', { replace: true });
        void team;
      } catch (err) {
        msg.error(err);
        input.focus();
      } finally {
        submit.disabled = false;
      }
    },
  },
  h('h1', { id: 'signin-title' }, 'Sign in to Outport'),
  h('p', { class: 'muted' }, 'Paste an API token. The first one is printed in the server log on first boot; create more under Settings once signed in, or with the outport command line. This browser keeps you signed in, in every tab, until you sign out.'),
  field('API token', input),
  msg.el,
  submit);
  outlet.append(form);
  if (new URLSearchParams(location.search).has('signedOut')) msg.ok('Signed out. This browser no longer keeps your token.');
  input.focus();
}
