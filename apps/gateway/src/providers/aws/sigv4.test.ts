import { describe, expect, it } from 'vitest';
import { SigV4Signer } from './sigv4.js';

const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
const at = Date.UTC(2015, 7, 30, 12, 36, 0);

describe('SigV4', () => {
  it("reproduces AWS's published example (IAM ListUsers, docs.aws.amazon.com signature v4 examples)", () => {
    const signer = new SigV4Signer(credentials, 'us-east-1', 'iam');
    expect(signer.signingKey('20150830').toString('hex')).toBe(
      'c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9',
    );
    const headers = signer.sign(
      {
        method: 'GET',
        host: 'iam.amazonaws.com',
        path: '/',
        query: 'Action=ListUsers&Version=2010-05-08',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
        body: '',
      },
      at,
    );
    expect(headers).toEqual({
      'x-amz-date': '20150830T123600Z',
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
    });
  });

  it('signs the session token of temporary credentials, and changes with the body and the path', () => {
    const signer = new SigV4Signer(
      { ...credentials, sessionToken: 'FwoGZX-session' },
      'us-east-1',
      'bedrock',
    );
    const req = {
      method: 'POST',
      host: 'bedrock-runtime.us-east-1.amazonaws.com',
      path: '/model/a%3A0/converse',
      query: '',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    };
    const a = signer.sign(req, at);
    expect(a['x-amz-security-token']).toBe('FwoGZX-session');
    expect(a['authorization']).toContain('SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,');
    expect(signer.sign({ ...req, body: '{"x":1}' }, at)['authorization']).not.toBe(a['authorization']);
    expect(signer.sign({ ...req, path: '/model/a:0/converse' }, at)['authorization']).not.toBe(
      a['authorization'],
    );
  });
});
