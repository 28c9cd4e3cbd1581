import {
  percentEncode,
  v1Signature,
  v3CanonicalRequest,
  v3Signature,
  sha256Hex,
} from '../../lib/local/signature';

describe('request signatures', () => {
  it('reproduces the published V3 (ACS3-HMAC-SHA256) test vector', () => {
    const headers = {
      host: '127.0.0.1:8080',
      'x-acs-action': 'CopyImage',
      'x-acs-version': '2014-05-26',
      'x-acs-date': '2025-01-01T00:00:00Z',
      'x-acs-signature-nonce': 'nonce-123',
      'x-acs-content-sha256': sha256Hex(''),
      accept: 'application/json',
      'user-agent': 'x',
    };
    const canonical = v3CanonicalRequest({
      method: 'POST',
      pathname: '/',
      query: {
        ImageId: 'm-src',
        RegionId: 'cn-hangzhou',
        DestinationRegionId: 'cn-shanghai',
        DestinationImageName: 'my image',
        'Tag.1.Key': 'k',
        'Tag.1.Value': 'v',
      },
      headers,
      signedHeaders: [
        'host',
        'x-acs-action',
        'x-acs-content-sha256',
        'x-acs-date',
        'x-acs-signature-nonce',
        'x-acs-version',
      ],
      payloadHash: sha256Hex(''),
    });
    expect(canonical.split('\n')[2]).toBe(
      'DestinationImageName=my%20image&DestinationRegionId=cn-shanghai&ImageId=m-src&RegionId=cn-hangzhou&Tag.1.Key=k&Tag.1.Value=v',
    );
    expect(v3Signature('testSecret', canonical)).toBe(
      'e0f725fdc5de1d251a2ccdc548e68c0917472f0450884b5884b086ca9d5717cb',
    );
  });

  it('reproduces the published V1 (HMAC-SHA1) test vector', () => {
    const signature = v1Signature('testsecret', 'GET', {
      Timestamp: '2016-02-23T12:46:24Z',
      Format: 'XML',
      AccessKeyId: 'testid',
      Action: 'DescribeRegions',
      SignatureMethod: 'HMAC-SHA1',
      SignatureNonce: '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf',
      Version: '2014-05-26',
      SignatureVersion: '1.0',
    });
    expect(signature).toBe('OLeaidS1JvxuMvnyHOwuJ+uX5qY=');
  });

  it('re-encodes values with the RFC 3986 rules the SDK signs with', () => {
    expect(percentEncode("n a!*'()~")).toBe('n%20a%21%2A%27%28%29~');
  });
});
