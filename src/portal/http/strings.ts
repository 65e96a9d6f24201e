/**
 * Every user-visible string of the portal's web pages, one object per
 * locale (only 'en' so far), like notification.ts's `messages`. Values are
 * plain text: the page builders escape them. Functions take only what the
 * sentence needs (a masked address, a formatted date, a count), never a
 * code, a token or message content.
 */

export type PortalLocale = 'en';

export const strings = {
  en: {
    skipToContent: 'Skip to the content',
    logoAlt: (organisation: string) => `${organisation} logo`,
    support: (contact: string) => `Need help? Contact ${contact}.`,
    poweredBy: 'Secure message portal',

    // sign-in
    signInTitle: 'Open your secure message',
    signInIntro: 'This message is protected. To make sure only you can read it, we email a one-time code to your address first.',
    signInAddress: (masked: string) => `The code goes to ${masked}.`,
    sendCode: 'Email me a code',
    availableUntil: (date: string) => `Available until ${date}.`,
    cookiesNeeded: 'Your browser needs to accept cookies from this site to sign in.',

    // code entry
    codeTitle: 'Enter your code',
    codeSent: (masked: string) => `We emailed a one-time code to ${masked}. It works for 10 minutes.`,
    codeCheckSpam: 'It can take a minute to arrive. If you cannot find it, look in your spam or junk folder.',
    codeLabel: 'Code from the email',
    codeHint: 'Digits only; spaces do not matter.',
    signIn: 'Sign in',
    newCodeIntro: 'No code, or it has expired?',
    newCode: 'Email me a new code',
    codeWrong: (triesLeft: number) =>
      triesLeft <= 0
        ? 'That code is not right. Ask for a new code.'
        : `That code is not right. ${triesLeft === 1 ? '1 try' : `${triesLeft} tries`} left.`,
    codeMalformed: (triesLeft: number) =>
      triesLeft <= 0
        ? 'That is not a code from our email. Ask for a new code.'
        : `That is not a code from our email: it has only digits. ${triesLeft === 1 ? '1 try' : `${triesLeft} tries`} left.`,
    codeExpired: 'That code has expired. Ask for a new code.',
    codeUsed: 'That code was already used. Ask for a new code.',
    codeLockedAskNew: 'That code was entered wrongly too often and no longer works. Ask for a new code.',

    // refused, locked
    refusedTitle: 'Please wait before asking for another code',
    refusedRate: (at: string, minutes: string) => `Several codes were sent in the last hour. You can ask for a new one after ${at} (${minutes}).`,
    refusedLocked: (at: string, minutes: string) => `Too many wrong codes were entered. For your security, no new code can be sent before ${at} (${minutes}).`,
    refusedLatestCode: 'If you already have a recent code, you can still use it.',
    enterCodeInstead: 'I have a code',
    lockedTitle: 'Too many wrong codes',
    lockedBody: (at: string, minutes: string) =>
      `For your security, this message is locked for you until ${at} (${minutes}). Then open the link from your email again and ask for a new code.`,
    inMinutes: (minutes: number) => (minutes <= 1 ? 'in about a minute' : `in about ${minutes} minutes`),

    // message
    /** The page title: neutral, since titles land in the browser's history. */
    messageTitle: 'Secure message',
    signedInAs: (address: string) => `Signed in as ${address}`,
    signOut: 'Sign out',
    noSubject: '(no subject)',
    from: 'From',
    to: 'To',
    cc: 'Cc',
    date: 'Date',
    blindCopy: '(blind copy)',
    moreRecipients: (n: number) => `and ${n} more`,
    expiresOn: (date: string) => `This message is available until ${date}. After that it is deleted.`,
    imagesBlocked: (n: number) =>
      `${n === 1 ? '1 image' : `${n} images`} from the internet ${n === 1 ? 'was' : 'were'} not loaded, to protect your privacy: loading ${n === 1 ? 'it' : 'them'} tells the sender's servers that you opened this message.`,
    showImages: 'Show images',
    imagePlaceholder: (alt: string) => (alt ? `[image: ${alt}]` : '[image]'),
    bodyTooLarge: 'The formatted version of this message is too large to show here; this is its plain text.',
    noBody: 'This message has no text.',
    attachments: (n: number) => (n === 1 ? '1 attachment' : `${n} attachments`),
    download: 'Download',
    downloadLabel: (name: string) => `Download ${name}`,
    printView: 'Print view',
    printHint: "Use your browser's Print command to print this page.",
    backToMessage: 'Back to the message',
    messageTooLarge: 'This message is too large to show in the portal. Please contact the sender.',

    // secure reply
    replyHeading: 'Reply securely',
    replyIntro: (sender: string) => `Your reply goes to ${sender} through this portal, encrypted. It is not sent from your own email account.`,
    replyAllIntro: 'Reply to all also sends it to the other people this message was addressed to.',
    replyBodyLabel: 'Your reply',
    replyFilesLabel: 'Attach files (optional)',
    replyFilesHint: (max: string) => `Up to 20 files, ${max} in all.`,
    replySend: 'Send reply',
    replySendAll: 'Reply to all',
    replySent: 'Your reply was sent securely.',
    yourReplies: (n: number) => (n === 1 ? 'Your reply' : `Your replies (${n})`),
    replyFiles: (n: number) => (n === 1 ? '1 file attached' : `${n} files attached`),
    replyRefusedTitle: 'Your reply was not sent',
    replyRefused: {
      empty: 'Write a reply or attach a file, then send it again.',
      'too-large': 'Your reply is too large. Remove some attachments or shorten the text, then send it again.',
      'too-many-attachments': 'You can attach up to 20 files. Remove some, then send it again.',
      unknown: 'This message can no longer be answered.',
      closed: 'This message can no longer be answered: it has expired or was withdrawn.',
      'not-a-recipient': 'This message can no longer be answered.',
      'no-sender': 'This message was sent from an address that cannot receive replies.',
    } as Record<string, string>,

    // the sender's withdraw link
    withdrawTitle: 'Withdraw your secure message?',
    withdrawSummary: (n: number, sent: string, until: string) =>
      `You sent this message on ${sent} to ${n === 1 ? '1 recipient' : `${n} recipients`} through the secure portal. It can be read until ${until}.`,
    withdrawWarning: 'Withdrawing deletes it at once for every recipient: nobody can read it any more, and this cannot be undone.',
    withdrawButton: 'Withdraw the message',
    withdrawnDoneTitle: 'The message was withdrawn',
    withdrawnDoneBody: 'It has been deleted and can no longer be read by anyone.',

    // zero-knowledge links
    linkKeyTitle: 'Open the whole link from your email',
    linkKeyMissing: 'This message opens only with the complete link from your email, including the part after the "#" sign: that part is its key, and it is kept only in your link. Open the link from your email again.',
    linkKeyWrong: 'The link you opened is not complete or was changed, so the message cannot be unlocked. Open the link from your email again, exactly as it is.',
    linkKeyNeedsScript: 'Your browser needs JavaScript switched on to open this kind of secure message.',

    // signed out
    signedOutTitle: 'You have signed out',
    signedOutBody: 'To read the message again, open the link from your email and sign in with a new code.',
    openAgain: 'Open the message again',

    // gone, invalid
    invalidTitle: 'This link is not valid',
    invalidBody: 'Check that you opened the whole link from the email. If you copied it, make sure nothing is missing at the end.',
    withdrawnTitle: 'This message was withdrawn',
    withdrawnBody: 'The sender withdrew this message. It can no longer be read. Contact the sender if you still need it.',
    expiredTitle: 'This message has expired',
    expiredBody: (date: string) => `This message was available until ${date} and can no longer be read. Contact the sender if you still need it.`,
    unavailableTitle: 'This message is no longer available',
    unavailableBody: 'This message has been deleted. Contact the sender if you still need it.',

    // passkeys (pages-passkey.ts, routes-passkey.ts; the glue script shows them from data-* attributes)
    passkeyOfferTitle: 'Sign in faster next time',
    passkeyOfferBody: 'Set up a passkey on this device, and next time you can open messages sent to you without waiting for an emailed code.',
    passkeyOfferButton: 'Set up a passkey',
    passkeyTitle: 'Set up a passkey',
    passkeyIntro: (address: string) =>
      `With a passkey you open secure messages sent to ${address} on this device with your fingerprint, face, PIN or screen lock, instead of a code from your email.`,
    passkeyKept: 'The passkey stays on your device or in your password manager. This portal keeps only its public part, which cannot sign anyone in by itself.',
    passkeyHave: (n: number) =>
      n === 1
        ? 'You already have a passkey for this address. You can set up another one on a different device.'
        : `You already have ${n} passkeys for this address. You can set up another one on a different device.`,
    passkeyNeedsJs: 'Setting up a passkey needs JavaScript, which is turned off or blocked in this browser. You can keep signing in with a code from your email.',
    passkeyUnsupported: 'This browser cannot set up passkeys. You can keep signing in with a code from your email.',
    passkeyCreate: 'Set up a passkey',
    passkeyWorking: 'Follow the steps your browser or device shows.',
    passkeyDone: 'Your passkey is set up. Next time you open a secure message sent to this address, choose “Sign in with a passkey”.',
    passkeyCancelled: 'The passkey was not set up: it was cancelled or took too long. You can try again.',
    passkeyExists: 'This device already has a passkey for this address. You can use it the next time you sign in.',
    passkeyFailed: 'The passkey could not be set up. Try again, or keep signing in with codes from your email.',
    passkeyFull: 'This address already has as many passkeys as the portal keeps. Keep signing in with the ones you have.',
    passkeyExpired: 'That took too long. Please try again.',
    passkeyForbidden: 'This page has been open too long, or your browser does not accept cookies from this site. Reload the page and try again.',
    passkeySignInIntro: 'This message is protected. To make sure only you can read it, sign in with your passkey, or with a one-time code we email to you.',
    passkeySignIn: 'Sign in with a passkey',
    passkeySignInOr: 'Or get a one-time code by email:',
    passkeySignInCancelled: 'The passkey was not used: it was cancelled or took too long. Try again, or get a code by email.',
    passkeySignInFailed: 'Signing in with the passkey did not work. Try again, or get a code by email.',
    passkeyNotForThis: 'That passkey cannot open this message. Use the passkey you set up for this address, or get a code by email.',
    passkeyNone: 'There is no passkey for this address any more. Get a code by email.',
    passkeySignedIn: 'Signed in. Opening the message…',

    // errors
    errors: {
      400: { title: 'This request could not be handled', body: 'Go back, reload the page and try again.' },
      403: {
        title: 'This form could not be accepted',
        body: 'It may have been open too long, or your browser does not accept cookies from this site. Open the link from your email again and try once more.',
      },
      404: { title: 'Page not found', body: 'To read a secure message, open the link in the email you received.' },
      405: { title: 'This action is not possible here', body: 'Go back to the message and use the buttons on the page.' },
      413: { title: 'The form was too large', body: 'Go back and try again with less text.' },
      415: { title: 'This request could not be handled', body: 'Go back, reload the page and try again.' },
      429: { title: 'Too many requests', body: 'Please wait a minute, then try again.' },
      500: { title: 'Something went wrong', body: 'The page could not be shown. Please try again in a few minutes. If it keeps happening, contact the sender.' },
      503: { title: 'The portal is busy', body: 'Please try again in a few minutes.' },
    },
    openLinkAgain: 'Open the message link again',
  },
} as const;

export type PortalStrings = (typeof strings)['en'];
export type ErrorStatus = keyof PortalStrings['errors'];
