/** Who is signed in, for every page: pages show a change's button only to roles the API lets make it. */
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Me } from './api';

export const MeContext = createContext<Me | undefined>(undefined);

export function useMe(): Me {
  const me = useContext(MeContext);
  if (me === undefined) throw new Error('useMe outside a signed-in page');
  return me;
}

/** Operators and admins change things; the API refuses viewers all the same. */
export function canOperate(me: Me): boolean {
  return me.role === 'operator' || me.role === 'admin';
}
