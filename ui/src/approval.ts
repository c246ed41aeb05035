// Entry of the approval window (`approval.html`), which the Rust side opens
// on top of everything while a tool call waits for an answer.

import { mount } from 'svelte';
import ApprovalDialog from './components/ApprovalDialog.svelte';
import './app.css';

const target = document.getElementById('app');
if (!target) throw new Error('#app element missing from approval.html');

export default mount(ApprovalDialog, { target });
