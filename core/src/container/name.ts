/** Container names: what may name a directory under the lxcpath and an abstract socket. */
import { LxkitError } from '../errors.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;
/** Linux's NAME_MAX, less room for suffixes lxkit adds (".lock", ".json"). */
const NAME_MAX = 200;

export function checkName(name: string): string {
  if (typeof name !== 'string' || name === '') {
    throw new LxkitError('LXKIT_CONTAINER_NAME_INVALID', 'a container name is required (-n NAME)');
  }
  if (!NAME.test(name) || name.length > NAME_MAX) {
    throw new LxkitError(
      'LXKIT_CONTAINER_NAME_INVALID',
      `invalid container name ${JSON.stringify(name)}: use letters, digits, '.', '_', '+' and '-', starting with a letter or digit (at most ${NAME_MAX})`,
      { container: name },
    );
  }
  return name;
}
