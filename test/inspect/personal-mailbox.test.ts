import { describe, expect, it } from 'vitest';
import { personalMailbox } from '../../src/inspect/detect/personal-mailbox.js';

describe('personalMailbox: a personal mailbox provider, not an organisation', () => {
  it.each<[string, boolean]>([
    ['maria.lopez@gmail.com', true],
    ['Maria.Lopez@GMAIL.COM', true],
    ['grandpa@comcast.net', true],
    ['someone@yahoo.co.uk', true],
    ['someone@hotmail.fr', true],
    ['linda@homemail.example', true],
    ['omar.sheikh@fastpost.example', true],
    ['rosa@correo.example', true],
    ['someone@mail.example', true],
    ['front.desk@riverbendhealth.example', false],
    ['billing@lakeshoreregional.example', false],
    ['noreply@brightsiderx.example', false],
    ['postmaster-less', false],
    ['', false],
  ])('%s → %s', (address, personal) => {
    expect(personalMailbox(address)).toBe(personal);
  });
});
