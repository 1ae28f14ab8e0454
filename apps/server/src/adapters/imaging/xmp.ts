/**
 * The provenance XMP packet Atelier writes into every stored image. It carries what made the image and
 * nothing about who asked for it: no user identifiers, no prompt (privacy policy). Reading accepts only
 * the same three fields back, so converting a download never carries anything else along.
 */

export const DIGITAL_SOURCE_TYPE = {
  /** Output of a trained model (FLUX and every other diffusion engine). */
  trainedAlgorithmicMedia: 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia',
  /** Made by an algorithm that is not a trained model: the offline preview engine. */
  algorithmicMedia: 'http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia',
} as const;

export interface ProvenanceFields {
  /** IPTC `Iptc4xmpExt:DigitalSourceType`, a URI from the IPTC digital source type vocabulary. */
  digitalSourceType: string;
  /** `xmp:CreatorTool`, e.g. "Atelier — Offline preview engine". */
  creatorTool: string | null;
  /** IPTC `Iptc4xmpExt:AISystemUsed`: the model id. */
  aiSystemUsed: string | null;
}

const NS = {
  x: 'adobe:ns:meta/',
  rdf: 'http://www.w3.org/1999/02/22-rdf-syntax-ns#',
  xmp: 'http://ns.adobe.com/xap/1.0/',
  Iptc4xmpExt: 'http://iptc.org/std/Iptc4xmpExt/2008-02-29/',
} as const;

// Control characters are not allowed in XML 1.0 and have no business in a label anyway.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g;

function escapeXml(value: string): string {
  return value
    .replace(CONTROL, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function unescapeXml(value: string): string {
  return value
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&amp;/g, '&');
}

export function buildXmpPacket(fields: ProvenanceFields): string {
  const attributes = [
    `Iptc4xmpExt:DigitalSourceType="${escapeXml(fields.digitalSourceType)}"`,
    fields.creatorTool === null ? null : `xmp:CreatorTool="${escapeXml(fields.creatorTool)}"`,
    fields.aiSystemUsed === null ? null : `Iptc4xmpExt:AISystemUsed="${escapeXml(fields.aiSystemUsed)}"`,
  ].filter((a): a is string => a !== null);
  return [
    '<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>',
    `<x:xmpmeta xmlns:x="${NS.x}">`,
    ` <rdf:RDF xmlns:rdf="${NS.rdf}">`,
    `  <rdf:Description rdf:about="" xmlns:xmp="${NS.xmp}" xmlns:Iptc4xmpExt="${NS.Iptc4xmpExt}"`,
    ...attributes.map((a) => `   ${a}`),
    '  />',
    ' </rdf:RDF>',
    '</x:xmpmeta>',
    '<?xpacket end="w"?>',
  ].join('\n');
}

/**
 * One property's value, written either as an attribute (`ns:Prop="v"`, our form) or as a simple element
 * (`<ns:Prop>v</ns:Prop>`, what exiftool and Adobe tools often write). Prefixes are matched literally:
 * good enough for packets we wrote ourselves, which is the only case convert() has to preserve.
 */
function readProperty(xmp: string, qname: string): string | null {
  const q = qname.replace(':', '\\:');
  const attr = new RegExp(`\\s${q}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`).exec(xmp);
  const raw = attr ? (attr[1] ?? attr[2]) : new RegExp(`<${q}>([^<]*)</${q}>`).exec(xmp)?.[1];
  if (raw === undefined) return null;
  const value = unescapeXml(raw).trim();
  return value === '' ? null : value;
}

export function parseXmpProvenance(xmp: string): ProvenanceFields | null {
  const digitalSourceType = readProperty(xmp, 'Iptc4xmpExt:DigitalSourceType');
  if (digitalSourceType === null) return null;
  return {
    digitalSourceType,
    creatorTool: readProperty(xmp, 'xmp:CreatorTool'),
    aiSystemUsed: readProperty(xmp, 'Iptc4xmpExt:AISystemUsed'),
  };
}
