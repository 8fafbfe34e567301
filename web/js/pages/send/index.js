// The send page of each chain (`#/wallet/send/<chain>`), besides EVM's (../wallet-send.js).
import { bitcoinSendPage } from './bitcoin.js';
import { solanaSendPage } from './solana.js';
import { tonSendPage } from './ton.js';
import { tronSendPage } from './tron.js';

export const SEND_PAGES = { bitcoin: bitcoinSendPage, solana: solanaSendPage, ton: tonSendPage, tron: tronSendPage };
